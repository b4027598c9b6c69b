/*
 * test_cap.c — the CAP 1.2 library (node/formats/): a provincial warning
 * and our own exports are read with every kept field; hostile and invalid
 * documents (entities, external DTDs, depth, wrong types, order, sizes,
 * namespaces) are refused with the line and the element named; and an
 * alert written by fmt_cap_write parses back to the same values (the
 * round trip of everything the struct keeps).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/base/fm_base.h"
#include "node/formats/formats.h"

static int parse_file(const char *name, struct fmt_cap_alert *a, char *err, size_t cap)
{
    char path[1024], *buf = NULL;
    size_t len;
    const char *src = getenv("FM_SRC");
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_cap/%s", src ? src : ".", name);
    assert_int_equal(fm_file_read_alloc(path, 2u << 20, &buf, &len), FM_OK);
    int rc = fmt_cap_parse(buf, len, name, a, err, cap);
    free(buf);
    return rc;
}

static void test_provincial_warning(void **state)
{
    (void)state;
    struct fmt_cap_alert *a = malloc(sizeof *a);
    char err[1024];
    assert_int_equal(parse_file("weather_warning.xml", a, err, sizeof err), FM_OK);
    assert_string_equal(a->identifier, "PROV-MET-2026-0917-TY12");
    assert_string_equal(a->scope, "Public");
    assert_int_equal(a->ninfo, 2);
    const struct fmt_cap_info *zh = &a->info[0];
    assert_string_equal(zh->language, "zh-CN");
    assert_string_equal(zh->event, "台风橙色预警");
    assert_int_equal(zh->nresponses, 2);
    assert_string_equal(zh->responses[1], "Prepare");
    assert_string_equal(zh->expires, "2026-09-18T20:00:00+08:00");
    assert_int_equal(zh->nareas, 1);
    assert_int_equal(zh->areas[0].npolygons, 1);
    assert_int_equal(zh->areas[0].ncircles, 1);
    assert_true(zh->areas[0].min_lat == 29.8 && zh->areas[0].max_lon == 122.8);
    assert_string_equal(zh->areas[0].geocodes[0].value, "330200");
    uint64_t ms;
    assert_int_equal(fmt_cap_time_parse(a->sent, &ms), FM_OK);
    assert_int_equal(ms, 1789605000000ull); /* 2026-09-17T00:30:00Z */
    free(a);
}

static void test_refusals_name_line_and_element(void **state)
{
    (void)state;
    static const struct {
        const char *file, *says;
    } cases[] = {
        { "billion_laughs.xml", "billion_laughs.xml:2: document: DOCTYPE refused" },
        { "xxe.xml", "xxe.xml:2: document: DOCTYPE refused" },
        { "undefined_entity.xml", "Entity 'xxe' not defined" },
        { "deep.xml", "depth" },
        { "bad_time.xml", ":5: sent: \"2026-12-05T07:37:56Z\" is not a CAP dateTime" },
        { "missing_event.xml", ":12: info: lacks its required <event>" },
        { "out_of_order.xml", ":4: identifier: out of order: CAP puts it before <sender>" },
        { "bad_enum.xml", ":16: severity: \"Catastrophic\" is not one of Extreme Severe" },
        { "unknown_element.xml", ":22: mood: unknown element in <info>" },
        { "cap11.xml", "(CAP 1.1; only 1.2 is read)" },
        { "open_polygon.xml", "polygon: a polygon needs at least 4 points, the last equal" },
        { "too_long.xml", ":23: headline: 642 bytes, more than the 511" },
        { "not_wellformed.xml", ":24: document: " },
        { "no_restriction.xml", "restriction: required when <scope> is Restricted" },
        { "attr.xml", ":3: identifier: attribute \"lang\" is not allowed" },
        { "lat_range.xml", "circle: \"91.2304000,121.4737000 0.000\" is not \"lat,lon radius\"" },
        { "text_in_info.xml", "info: holds text outside any element" },
        { "twice.xml", ":7: status: may appear only once in <alert>" },
    };
    struct fmt_cap_alert *a = malloc(sizeof *a);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[1024];
        int rc = parse_file(cases[i].file, a, err, sizeof err);
        if (rc != FM_EDECODE || strstr(err, cases[i].says) == NULL)
            fail_msg("%s: rc %d, \"%s\" (want \"%s\")", cases[i].file, rc, err, cases[i].says);
    }
    free(a);
}

static void test_size_cap(void **state)
{
    (void)state;
    struct fmt_cap_alert *a = malloc(sizeof *a);
    char err[256];
    size_t n = FMT_CAP_MAX_BYTES + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    assert_int_equal(fmt_cap_parse(big, n, "big.xml", a, err, sizeof err), FM_ETOOBIG);
    assert_non_null(strstr(err, "more than the 1048576"));
    free(big);
    free(a);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct fmt_cap_alert *a = calloc(1, sizeof *a), *b = malloc(sizeof *b);
    char err[1024], *xml = NULL;
    size_t len;
    strcpy(a->identifier, "fieldmesh-abc-1");
    strcpy(a->sender, "fieldmesh:centre");
    fmt_cap_time(1796456276000ull, a->sent);
    strcpy(a->status, "Exercise");
    strcpy(a->msg_type, "Update");
    strcpy(a->scope, "Private");
    strcpy(a->addresses, "hospital-1 hospital-2");
    strcpy(a->references, "fieldmesh:centre,fieldmesh-abc-0,2026-12-05T07:37:00-00:00");
    a->ninfo = 1;
    struct fmt_cap_info *in = &a->info[0];
    strcpy(in->language, "zh-CN");
    in->ncategories = 2;
    strcpy(in->categories[0], "Fire");
    strcpy(in->categories[1], "Rescue");
    strcpy(in->event, "building fire <3rd floor> & smoke");
    strcpy(in->urgency, "Immediate");
    strcpy(in->severity, "Severe");
    strcpy(in->certainty, "Observed");
    strcpy(in->description, "两人被困\nline two");
    in->nparams = 1;
    strcpy(in->params[0].name, "fieldmesh:priority");
    strcpy(in->params[0].value, "1");
    in->nareas = 1;
    strcpy(in->areas[0].desc, "88 Nanjing Rd");
    in->areas[0].ncircles = 1;
    in->areas[0].circles[0] = (struct fmt_cap_circle){ 31.2304, 121.4737, 0.5 };
    assert_int_equal(fmt_cap_write(a, &xml, &len, err, sizeof err), FM_OK);
    assert_non_null(strstr(xml, "&lt;3rd floor&gt; &amp; smoke"));
    assert_int_equal(fmt_cap_parse(xml, len, "rt", b, err, sizeof err), FM_OK);
    assert_string_equal(b->references, a->references);
    assert_string_equal(b->addresses, a->addresses);
    assert_string_equal(b->info[0].event, in->event);
    assert_string_equal(b->info[0].description, in->description);
    assert_string_equal(b->info[0].categories[1], "Rescue");
    assert_string_equal(b->info[0].params[0].value, "1");
    assert_true(b->info[0].areas[0].circles[0].lat == 31.2304);
    assert_true(b->info[0].areas[0].circles[0].radius_km == 0.5);
    free(xml);
    /* what the parser refuses is never written */
    strcpy(in->severity, "Bad");
    assert_int_equal(fmt_cap_write(a, &xml, &len, err, sizeof err), FM_EINVAL);
    assert_null(xml);
    assert_non_null(strstr(err, "severity: \"Bad\" is not one of"));
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provincial_warning),
        cmocka_unit_test(test_refusals_name_line_and_element),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
