/*
 * test_roster.c — the roster CSV decoder (node/formats/roster_*.c) and the
 * directory YAML writer (node/workflow/directory_write.c): the sample
 * roster decodes with its Chinese names, quoted commas and a two-line
 * capabilities cell; the same sheet in GB18030 and with a UTF-8 BOM gives
 * the same roster; every error in a bad sheet is listed with its line and
 * column (lines counted through quoted line breaks); and a directory
 * written as YAML reads back field for field.
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
#include "node/workflow/workflow.h"

static char *read_src(const char *rel, size_t *len)
{
    char path[1024], *buf = NULL;
    const char *src = getenv("FM_SRC");
    snprintf(path, sizeof path, "%s/%s", src ? src : ".", rel);
    assert_int_equal(fm_file_read_alloc(path, 1u << 20, &buf, len), FM_OK);
    return buf;
}

static struct fmt_roster *parse(const char *buf, size_t len, enum fmt_roster_encoding enc,
                                int want)
{
    struct fmt_roster *r = malloc(sizeof *r);
    assert_non_null(r);
    int rc = fmt_roster_parse(buf, len, "t.csv", enc, r);
    if (rc != want && r->errors != NULL)
        fprintf(stderr, "%s", r->errors);
    assert_int_equal(rc, want);
    return r;
}

static void done(struct fmt_roster *r)
{
    fmt_roster_release(r);
    free(r);
}

static const struct fmt_roster_unit *unit(const struct fmt_roster *r, const char *name)
{
    for (size_t i = 0; i < r->nunits; i++)
        if (strcmp(r->units[i].name, name) == 0)
            return &r->units[i];
    fail_msg("no unit %s", name);
    return NULL;
}

static void test_sample(void **state)
{
    (void)state;
    size_t len;
    char *buf = read_src("configs/roster.csv", &len);
    struct fmt_roster *r = parse(buf, len, FMT_ROSTER_AUTO, FM_OK);
    assert_false(r->was_gb18030);
    assert_int_equal(r->ncounties, 3);
    assert_string_equal(r->counties[0], "central");
    assert_int_equal(r->ndepts, 20);
    assert_int_equal(r->nunits, 36);
    const struct fmt_roster_unit *u = unit(r, "消防一中队");
    assert_string_equal(r->depts[u->dept].name, "中心区消防救援支队");
    assert_string_equal(u->caps, "fire,rescue,water_supply"); /* two lines in one cell */
    assert_true(u->lat == 31.2301 && u->lon == 121.4737);
    u = unit(r, "消防二中队 (Engine C3, reserve)"); /* a quoted comma */
    assert_string_equal(u->caps, "fire,rescue");
    /* a department listed without units */
    assert_string_equal(r->depts[19].name, "Volunteer Liaison Office");
    assert_int_equal(r->depts[19].tier, 3);
    assert_null(r->errors);
    done(r);
    free(buf);
}

static void test_encodings_agree(void **state)
{
    (void)state;
    size_t len;
    char *buf = read_src("tests/fuzz/corpus/fuzz_roster_csv/sample_gb18030.csv", &len);
    assert_null(strstr(buf, "消防")); /* really not UTF-8 */
    struct fmt_roster *gb = parse(buf, len, FMT_ROSTER_AUTO, FM_OK);
    free(buf);
    assert_true(gb->was_gb18030);
    struct fmt_roster *forced = parse(buf = read_src("tests/fuzz/corpus/fuzz_roster_csv/"
                                                     "sample_gb18030.csv", &len),
                                      len, FMT_ROSTER_GB18030, FM_OK);
    struct fmt_roster *as_utf8 = parse(buf, len, FMT_ROSTER_UTF8, FM_EDECODE);
    assert_non_null(strstr(as_utf8->errors, "t.csv:35: not valid UTF-8"));
    free(buf);
    buf = read_src("tests/fuzz/corpus/fuzz_roster_csv/sample_bom.csv", &len);
    struct fmt_roster *bom = parse(buf, len, FMT_ROSTER_AUTO, FM_OK);
    free(buf);
    buf = read_src("configs/roster.csv", &len);
    struct fmt_roster *plain = parse(buf, len, FMT_ROSTER_AUTO, FM_OK);
    free(buf);
    struct fmt_roster *all[] = {gb, forced, bom};
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(all[k]->nunits, plain->nunits);
        for (size_t i = 0; i < plain->nunits; i++) {
            assert_string_equal(all[k]->units[i].name, plain->units[i].name);
            assert_string_equal(all[k]->units[i].caps, plain->units[i].caps);
        }
        for (size_t i = 0; i < plain->ndepts; i++)
            assert_string_equal(all[k]->depts[i].name, plain->depts[i].name);
    }
    done(gb);
    done(forced);
    done(as_utf8);
    done(bom);
    done(plain);
}

#define HDR "department,department_kind,tier,county,unit,unit_kind,capabilities,lat,lon\n"

static void test_every_error_listed(void **state)
{
    (void)state;
    static const char csv[] =
        HDR
        "A,police,4,c1,U1,patrol,,91,0\n"                    /* 2: tier, lat */
        "B,fire,1,c1,\"two\nlines\",engine,,1,2\n"           /* 3: line break in a name */
        "B,gas,1,c1,U2,Engine,,1,2\n"                        /* 5: kind differs, unit_kind */
        "C,fire,1,c1,U3,engine,Fire!,1,x\n"                  /* 6: capability, lon */
        "D,fire,2,c1,U3,engine,,1,2\n"                       /* 7: fine */
        "E,fire,2,c1,U3,engine,,1,2\n"                       /* 8: U3 again */
        "F,fire,2,c1,U4,engine,,1\n"                         /* 9: a field short */
        "G,fire,2,c1,\"U\"5,engine,,1,2\n"                   /* 10: after the quote */
        "H,fire,2,c1,U\"6,engine,,1,2\n";                    /* 11: bare quote */
    struct fmt_roster *r = parse(csv, strlen(csv), FMT_ROSTER_AUTO, FM_EDECODE);
    static const char *const want[] = {
        "t.csv:2: column tier: '4' must be 1, 2 or 3\n",
        "t.csv:2: column lat: '91' must be a number from -90 to 90",
        "t.csv:3: column unit: contains a line break\n",
        "t.csv:5: column department_kind: 'B' has kind 'fire' on line 3\n",
        "t.csv:5: column unit_kind: 'Engine' must be",
        "t.csv:6: column capabilities: 'Fire!' must be",
        "t.csv:6: column lon: 'x' must be a number",
        "t.csv:8: column unit: 'U3' is already listed on line 7",
        "t.csv:9: the row has 8 fields, the header 9",
        "t.csv:10: column unit: text after the closing quote",
        "t.csv:11: column unit: a quote inside an unquoted field",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (strstr(r->errors, want[i]) == NULL)
            fail_msg("missing \"%s\" in:\n%s", want[i], r->errors);
    assert_int_equal(r->nerrors, sizeof want / sizeof want[0]);
    done(r);
}

static void test_header_and_edges(void **state)
{
    (void)state;
    struct fmt_roster *r = parse("", 0, FMT_ROSTER_AUTO, FM_EDECODE);
    assert_string_equal(r->errors, "t.csv:1: no header row (the file is empty)\n");
    done(r);
    static const char hdr[] = "Department,dept,tier,tier\n";
    r = parse(hdr, strlen(hdr), FMT_ROSTER_AUTO, FM_EDECODE);
    assert_non_null(strstr(r->errors, "t.csv:1: column dept: unknown column"));
    assert_non_null(strstr(r->errors, "t.csv:1: column tier: named twice"));
    assert_non_null(strstr(r->errors, "t.csv:1: column lon: missing from the header"));
    assert_null(strstr(r->errors, "column department:")); /* case does not matter */
    assert_null(strstr(r->errors, "column capabilities:")); /* optional */
    done(r);
    static const char unclosed[] = HDR "\n\nA,fire,1,c,\"U1,engine,,1,2\n";
    r = parse(unclosed, strlen(unclosed), FMT_ROSTER_AUTO, FM_EDECODE);
    assert_string_equal(r->errors, "t.csv:4: column unit: the quoted field opened here is "
                                   "never closed\n");
    done(r);
    static const char only_hdr[] = HDR "\r\n";
    r = parse(only_hdr, strlen(only_hdr), FMT_ROSTER_AUTO, FM_EDECODE);
    assert_non_null(strstr(r->errors, "no department rows"));
    done(r);
    static const char utf16[] = "\xff\xfe" "d\0e\0p\0";
    r = parse(utf16, sizeof utf16 - 1, FMT_ROSTER_AUTO, FM_EDECODE);
    assert_non_null(strstr(r->errors, "t.csv:1: the file is UTF-16"));
    done(r);
    /* a name of 64 characters fits (63 Chinese ones and a letter: 190 bytes);
     * one more is refused with the count it got, quoted cut on a character
     * boundary, never mid-character */
    char longname[sizeof HDR + 512];
    size_t used = (size_t)snprintf(longname, sizeof longname, HDR "A");
    for (int i = 0; i < 63; i++)
        used += (size_t)snprintf(longname + used, sizeof longname - used, "消");
    snprintf(longname + used, sizeof longname - used, ",fire,1,c,,,,,\n");
    r = parse(longname, strlen(longname), FMT_ROSTER_AUTO, FM_OK);
    assert_int_equal(r->ndepts, 1);
    assert_int_equal(strlen(r->depts[0].name), 190);
    done(r);
    snprintf(longname + used, sizeof longname - used, "消,fire,1,c,,,,,\n");
    r = parse(longname, strlen(longname), FMT_ROSTER_AUTO, FM_EDECODE);
    assert_non_null(strstr(r->errors, "t.csv:2: column department: 'A消消消消消消消...' is 65 "
                                      "characters (at most 64)"));
    done(r);
    /* CRLF, doubled quotes, spaces around fields, no final line break */
    static const char ok[] = "unit,department,department_kind,tier,county,unit_kind,lat,lon\r\n"
                             " \"say \"\"hi\"\"\" , A , fire ,1,c,engine, -1.5 ,2";
    r = parse(ok, strlen(ok), FMT_ROSTER_AUTO, FM_OK);
    assert_int_equal(r->nunits, 1);
    assert_string_equal(r->units[0].name, "say \"hi\"");
    assert_string_equal(r->depts[0].name, "A");
    assert_true(r->units[0].lat == -1.5);
    done(r);
}

static void test_error_cap(void **state)
{
    (void)state;
    size_t cap = 300 * 32 + 128, used;
    char *csv = malloc(cap);
    used = (size_t)snprintf(csv, cap, HDR);
    for (int i = 0; i < 300; i++)
        used += (size_t)snprintf(csv + used, cap - used, "A,fire,9,c,U%d,engine,,1,2\n", i);
    struct fmt_roster *r = parse(csv, used, FMT_ROSTER_AUTO, FM_EDECODE);
    assert_int_equal(r->nerrors, 300);
    assert_non_null(strstr(r->errors, "t.csv: and 100 more errors\n"));
    done(r);
    free(csv);
}

static void test_yaml_round_trip(void **state)
{
    (void)state;
    char path[1024], err[1024], *text = NULL;
    size_t len;
    struct fm_directory *d = NULL, *back = NULL;
    snprintf(path, sizeof path, "%s/configs/directory.yaml", getenv("FM_SRC"));
    assert_int_equal(fm_directory_load_yaml(path, &d, err, sizeof err), FM_OK);
    strcpy(d->units[0].name, "消防 \"一\" \\中队");
    d->units[1].lat_e7 = -12345678;
    /* words YAML would read as syntax if written plain */
    strcpy(d->units[2].kind, "-");
    strcpy(d->units[2].caps, "-,null");
    strcpy(d->depts[0].kind, "-x");
    /* a need for "-": a unit of its kind has it (directory check refuses
     * a need no unit could fill) */
    strcpy(d->rules[0].respond[0].capability, "-");
    for (size_t i = 0; i < d->nunits; i++)
        if (strcmp(d->depts[d->units[i].dept].kind, d->rules[0].respond[0].kind) == 0) {
            strcpy(d->units[i].caps, "-");
            break;
        }
    assert_int_equal(fm_directory_render_yaml(d, "two\nlines", &text, &len), FM_OK);
    assert_memory_equal(text, "# two\n# lines\n", 14);
    if (fm_directory_parse_yaml("mem", text, len, &back, err, sizeof err) != FM_OK)
        fail_msg("%s\n%s", err, text);
    assert_string_equal(back->name, d->name);
    assert_int_equal(back->ncounties, d->ncounties);
    assert_int_equal(back->ndepts, d->ndepts);
    assert_int_equal(back->nunits, d->nunits);
    assert_int_equal(back->nrules, d->nrules);
    for (size_t i = 0; i < d->ndepts; i++) {
        assert_string_equal(back->depts[i].name, d->depts[i].name);
        assert_string_equal(back->depts[i].kind, d->depts[i].kind);
        assert_int_equal(back->depts[i].tier, d->depts[i].tier);
        assert_int_equal(back->depts[i].county, d->depts[i].county);
    }
    for (size_t i = 0; i < d->nunits; i++) {
        assert_string_equal(back->units[i].name, d->units[i].name);
        assert_string_equal(back->units[i].caps, d->units[i].caps);
        assert_string_equal(back->units[i].kind, d->units[i].kind);
        assert_int_equal(back->units[i].dept, d->units[i].dept);
        assert_int_equal(back->units[i].lat_e7, d->units[i].lat_e7);
        assert_int_equal(back->units[i].lon_e7, d->units[i].lon_e7);
    }
    for (size_t i = 0; i < d->nrules; i++) {
        const struct fm_dir_rule *a = &d->rules[i], *b = &back->rules[i];
        assert_string_equal(a->category, b->category);
        assert_int_equal(a->priority, b->priority);
        assert_int_equal(a->escalate_priority, b->escalate_priority);
        assert_int_equal(a->escalate_after_s, b->escalate_after_s);
        assert_int_equal(a->target_s, b->target_s);
        assert_int_equal(a->nrespond, b->nrespond);
        for (size_t k = 0; k < a->nrespond; k++) {
            assert_string_equal(a->respond[k].kind, b->respond[k].kind);
            assert_string_equal(a->respond[k].department, b->respond[k].department);
            assert_string_equal(a->respond[k].capability, b->respond[k].capability);
            assert_int_equal(a->respond[k].units, b->respond[k].units);
            assert_int_equal(a->respond[k].tier, b->respond[k].tier);
        }
    }
    fm_directory_free(&d);
    fm_directory_free(&back);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample),
        cmocka_unit_test(test_encodings_agree),
        cmocka_unit_test(test_every_error_listed),
        cmocka_unit_test(test_header_and_edges),
        cmocka_unit_test(test_error_cap),
        cmocka_unit_test(test_yaml_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
