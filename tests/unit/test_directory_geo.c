/*
 * test_directory_geo.c — county boundaries in the directory (format
 * version 2): a directory without boundaries still encodes as version 1
 * byte for byte, version 2 round-trips through the codec and the YAML,
 * the limits and strictness of the decoder, the even-odd point-in-polygon
 * with holes, and what a node built before version 2 does with one: it
 * keeps the directory it had.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "wf_test_util.h"
#include "node/formats/formats.h"

/* The hash (fm_hash) of configs/directory.yaml's version-1 encoding as published
 * before version 2 existed: a change here changes every store's digest. */
static const char V1_DIGEST[] = "cdf924d4df10fb23809382ce492e7a6a9e7af64a17bcc17a6c5b349948e36cfd";

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

/* Adds a ring of (lat, lon) degree pairs to county c. */
static void ring(struct fm_directory *d, uint16_t c, const double *ll, size_t npts)
{
    struct fm_dir_ring *r = &d->rings[d->nrings++];
    r->county = c;
    r->first = (uint32_t)d->npoints;
    r->npoints = (uint32_t)npts;
    for (size_t i = 0; i < npts; i++) {
        d->points[d->npoints].lat_e7 = (int32_t)lround(ll[2 * i] * 1e7);
        d->points[d->npoints].lon_e7 = (int32_t)lround(ll[2 * i + 1] * 1e7);
        d->npoints++;
    }
}

/* County 0: a square 29.0..29.2 x 119.5..119.7 with a hole 29.08..29.12
 * x 119.58..119.62 and a second part (an island) 28.0..28.1 x 119.0..119.1;
 * county 1: the square to its east, 119.7..119.9. */
static void add_boundaries(struct fm_directory *d)
{
    char err[256];
    static const double b_sq[] = {29.0, 119.7, 29.0, 119.9, 29.2, 119.9, 29.2, 119.7};
    static const double a_sq[] = {29.0, 119.5, 29.0, 119.7, 29.2, 119.7, 29.2, 119.5};
    static const double hole[] = {29.08, 119.58, 29.12, 119.58, 29.12, 119.62, 29.08, 119.62};
    static const double isl[] = {28.0, 119.0, 28.0, 119.1, 28.1, 119.1, 28.1, 119.0};
    ring(d, 1, b_sq, 4); /* out of county order on purpose: normalise sorts */
    ring(d, 0, a_sq, 4);
    ring(d, 0, hole, 4);
    ring(d, 0, isl, 4);
    OK(fm_directory_boundaries_normalise(d, err, sizeof err));
}

static void test_v1_bytes_unchanged(void **state)
{
    (void)state;
    struct fm_directory *d = load_dir();
    struct fm_buf b;
    uint8_t h[FM_HASH_LEN];
    char hx[2 * FM_HASH_LEN + 1];
    fm_buf_init(&b, 1u << 20);
    OK(directory_encode(d, &b));
    assert_int_equal(b.data[0], 1);
    assert_int_equal(fm_directory_format(d), 1);
    fm_hash(h, b.data, b.len);
    hex(h, sizeof h, hx);
    assert_string_equal(hx, V1_DIGEST);
    fm_buf_release(&b);
    fm_directory_free(&d);
}

static void test_v2_round_trip_and_strict(void **state)
{
    (void)state;
    struct fm_directory *d = load_dir(), *back = malloc(sizeof *back);
    struct fm_buf b, b2;
    assert_non_null(back);
    add_boundaries(d);
    assert_int_equal(d->rings[0].county, 0);
    assert_int_equal(d->rings[3].county, 1);
    assert_int_equal(fm_directory_format(d), 2);
    fm_buf_init(&b, 1u << 20);
    fm_buf_init(&b2, 1u << 20);
    OK(directory_encode(d, &b));
    assert_int_equal(b.data[0], 2);
    OK(directory_decode(back, b.data, b.len));
    assert_int_equal(back->nrings, 4);
    assert_int_equal(back->npoints, 16);
    assert_memory_equal(back->points, d->points, 16 * sizeof d->points[0]);
    assert_memory_equal(back->rings, d->rings, 4 * sizeof d->rings[0]);
    OK(directory_encode(back, &b2));
    assert_int_equal(b2.len, b.len);
    assert_memory_equal(b2.data, b.data, b.len);
    /* every truncation and a trailing byte are refused */
    for (size_t cut = 0; cut < b.len; cut += 1 + b.len / 211)
        assert_int_equal(directory_decode(back, b.data, cut), FM_EDECODE);
    OK(fm_buf_put_u8(&b2, 0));
    assert_int_equal(directory_decode(back, b2.data, b2.len), FM_EDECODE);
    /* a skippable unknown section (tag >= 0x80) is skipped; a must-know
     * one (tag < 0x80) refuses the whole version */
    b2.len = b.len;
    OK(fm_buf_put_u8(&b2, 0x90));
    OK(fm_buf_put_u32(&b2, 3));
    OK(fm_buf_append(&b2, "abc", 3));
    OK(directory_decode(back, b2.data, b2.len));
    assert_int_equal(back->nrings, 4);
    assert_int_equal(back->nskipped, 1);
    b2.data[b.len] = 0x05;
    assert_int_equal(directory_decode(back, b2.data, b2.len), FM_EDECODE);
    /* a section tag out of order (boundaries twice) is refused */
    b2.len = b.len;
    OK(fm_buf_append(&b2, b.data + (b.len - (5 + 2 + 4 * 3 + 16 * 8)), 5 + 2 + 4 * 3 + 16 * 8));
    assert_int_equal(directory_decode(back, b2.data, b2.len), FM_EDECODE);
    /* version 2 with no section is not a second form of a version 1 */
    struct fm_directory *plain = load_dir();
    OK(directory_encode(plain, &b2));
    b2.data[0] = 2;
    assert_int_equal(directory_decode(back, b2.data, b2.len), FM_EDECODE);
    /* a closed ring (first point repeated) or a coordinate out of range */
    d->points[d->rings[0].first + 3] = d->points[d->rings[0].first];
    assert_int_not_equal(directory_encode(d, &b2), FM_OK);
    d->points[d->rings[0].first + 3].lat_e7 = 950000000;
    assert_int_not_equal(directory_encode(d, &b2), FM_OK);
    fm_directory_free(&plain);
    fm_buf_release(&b);
    fm_buf_release(&b2);
    free(back);
    fm_directory_free(&d);
}

static void test_limits(void **state)
{
    (void)state;
    struct fm_directory *d = load_dir();
    char err[256];
    /* 65 rings in one county: one over the per-county limit */
    for (int i = 0; i <= FM_DIR_MAX_RINGS_PER_COUNTY; i++) {
        double sq[] = {10.0 + i, 10.0, 10.0 + i, 10.5, 10.5 + i, 10.5};
        ring(d, 0, sq, 3);
    }
    assert_int_equal(fm_directory_boundaries_normalise(d, err, sizeof err), FM_EINVAL);
    assert_non_null(strstr(err, "65 rings"));
    d->nrings = d->npoints = 0;
    /* 20,001 points in one county */
    struct fm_dir_ring *r = &d->rings[d->nrings++];
    r->county = 2;
    r->first = 0;
    r->npoints = FM_DIR_MAX_POINTS_PER_COUNTY + 1;
    for (uint32_t i = 0; i < r->npoints; i++) {
        d->points[i].lat_e7 = (int32_t)i;
        d->points[i].lon_e7 = (int32_t)(i % 7);
    }
    d->npoints = r->npoints;
    assert_int_equal(fm_directory_boundaries_normalise(d, err, sizeof err), FM_EINVAL);
    assert_non_null(strstr(err, "20001 points"));
    fm_directory_free(&d);
}

static void test_county_at(void **state)
{
    (void)state;
    struct fm_directory *d = load_dir();
    assert_int_equal(fm_directory_county_at(d, 291000000, 1195500000), -1); /* none yet */
    add_boundaries(d);
    assert_int_equal(fm_directory_county_at(d, 290500000, 1195500000), 0);
    assert_int_equal(fm_directory_county_at(d, 291000000, 1198000000), 1);
    assert_int_equal(fm_directory_county_at(d, 291000000, 1196000000), -1); /* in the hole */
    assert_int_equal(fm_directory_county_at(d, 280500000, 1190500000), 0);  /* the island */
    assert_int_equal(fm_directory_county_at(d, 300000000, 1196000000), -1); /* north of all */
    assert_int_equal(fm_directory_county_at(d, 291000000, 1200000000), -1); /* east of all */
    fm_directory_free(&d);
}

static void test_yaml_round_trip_and_errors(void **state)
{
    (void)state;
    struct fm_directory *d = load_dir(), *back = NULL;
    char *yaml = NULL, err[512];
    size_t len = 0;
    add_boundaries(d);
    OK(fm_directory_render_yaml(d, "test", &yaml, &len));
    assert_non_null(strstr(yaml, "\nboundaries:\n"));
    int rc = fm_directory_parse_yaml("rt.yaml", yaml, len, &back, err, sizeof err);
    if (rc != FM_OK)
        print_error("%s\n", err);
    OK(rc);
    assert_int_equal(back->nrings, d->nrings);
    assert_memory_equal(back->points, d->points, d->npoints * sizeof d->points[0]);
    free(yaml);
    fm_directory_free(&back);

    static const struct {
        const char *body, *want;
    } bad[] = {
        {"boundaries:\n  nowhere:\n    - [1, 2, 3, 4, 5, 6]\n",
         ":8:3: boundary for 'nowhere', which is not in the counties list"},
        {"boundaries:\n  C1:\n    - [1, 2, 3, 4, 5]\n", ":9:7: a ring needs lat, lon pairs"},
        {"boundaries:\n  C1:\n    - [1, 2, 3, 4]\n", ":9:7: a ring needs at least 3 points"},
        {"boundaries:\n  C1:\n    - [1, 2, 3, 4, 5, 6, 1, 2]\n", ":9:7: a ring is written open"},
        {"boundaries:\n  C1:\n    - [1, 2, 91, 4, 5, 6]\n", ":9:14: the latitude must be"},
        {"boundaries:\n  C1:\n    - [1, 2, 3, 4, 5, 1e999]\n", ":9:23: the longitude must be"},
        {"boundaries:\n  C1: []\n", ":8:7: the boundary of 'C1' has no ring"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[1024];
        snprintf(buf, sizeof buf,
                 "name: x\ncounties: [C1]\ndepartments:\n  - {name: D, kind: fire, tier: 1, "
                 "county: C1, units: []}\nrules:\n  - {category: fire, respond: []}\n%s",
                 bad[i].body);
        rc = fm_directory_parse_yaml("b.yaml", buf, strlen(buf), &back, err, sizeof err);
        if (rc != FM_ECONFIG || strstr(err, bad[i].want) == NULL)
            print_error("case %zu: rc %d: %s\n", i, rc, err);
        assert_int_equal(rc, FM_ECONFIG);
        assert_non_null(strstr(err, bad[i].want));
    }
    fm_directory_free(&d);
}

/* A node built before version 2 (its decoder stops at version 1) skips a
 * version-2 directory and keeps the last one it can read, whatever the
 * order of arrival; a current node takes the version 2. */
static void test_old_node_keeps_previous_directory(void **state)
{
    (void)state;
    struct fx_node centre, old;
    struct fm_directory *d = load_dir(), *got = NULL;
    char v1[FM_ID_MAX], v2[FM_ID_MAX];
    size_t reg = 0;
    make_node(&centre, "centre", FM_ROLE_CENTRE);
    OK(fx_author(&org, &old, "old"));
    OK(fx_open(&old, FM_OPEN_READ | FM_OPEN_NOSYNC_));
    OK(fm_node_directory_publish(centre.n, d, v1, &reg));
    add_boundaries(d);
    OK(fm_node_directory_publish(centre.n, d, v2, &reg));
    OK(fx_sync(centre.n, old.n, NULL));

    wf_directory_max_version = 1;
    OK(fm_node_directory_get(old.n, &got));
    assert_string_equal(got->version, v1);
    assert_int_equal(got->nrings, 0);
    fm_directory_free(&got);
    wf_directory_max_version = 2;
    OK(fm_node_directory_get(old.n, &got));
    assert_string_equal(got->version, v2);
    assert_int_equal(got->nrings, 4);
    fm_directory_free(&got);
    /* the ops are held either way: the stores agree */
    assert_int_equal(fx_digest_eq(centre.n, old.n), 1);
    fm_directory_free(&d);
    fx_done(&centre);
    fx_done(&old);
}

/* GeoJSON: what is read, and the first problem named by feature. */
static char *big_ring(size_t npts)
{
    size_t cap = 64 + npts * 48;
    char *t = malloc(cap);
    size_t at = (size_t)snprintf(t, cap, "{\"type\":\"FeatureCollection\",\"features\":[{"
        "\"type\":\"Feature\",\"properties\":{\"name\":\"x\"},\"geometry\":{\"type\":"
        "\"Polygon\",\"coordinates\":[[");
    for (size_t i = 0; i < npts; i++)
        at += (size_t)snprintf(t + at, cap - at, "[%.6f,%.6f],", 120.0 + i * 1e-6,
                               i % 2 ? 30.0 : 30.001);
    snprintf(t + at, cap - at, "[120.0,30.001]]]}}]}");
    return t;
}

static void test_geojson_parse(void **state)
{
    (void)state;
    struct fmt_geo_bounds *g = malloc(sizeof *g);
    char err[512];
    const char *ok = "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"name\":\"婺城区\",\"code\":330702},"
        "\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[[[119.5,29.0],[119.7,29.0],"
        "[119.7,29.2],[119.5,29.0]]],[[[119.0,28.0],[119.1,28.0],[119.1,28.1],[119.0,28.0]]]]}}]}";
    assert_non_null(g);
    OK(fmt_geojson_bounds_parse(ok, strlen(ok), NULL, g, err, sizeof err));
    assert_int_equal(g->nfeatures, 1);
    assert_string_equal(g->features[0].name, "婺城区");
    assert_int_equal(g->nrings, 2);
    assert_int_equal(g->npoints, 6); /* closing positions dropped */
    assert_int_equal(g->points[1].lat_e7, 290000000);
    assert_int_equal(g->points[1].lon_e7, 1197000000);
    OK(fmt_geojson_bounds_parse(ok, strlen(ok), "code", g, err, sizeof err));
    assert_string_equal(g->features[0].name, "330702");

    char *t = big_ring(FMT_GEO_MAX_POINTS_PER_FEATURE + 1);
    assert_int_equal(fmt_geojson_bounds_parse(t, strlen(t), NULL, g, err, sizeof err),
                     FM_EDECODE);
    assert_non_null(strstr(err, "features[0] (x): too many points"));
    free(t);
    t = big_ring(FMT_GEO_MAX_POINTS_PER_FEATURE);
    OK(fmt_geojson_bounds_parse(t, strlen(t), NULL, g, err, sizeof err));
    free(t);

    /* a position repeating the one before it is kept once, the closing
     * one dropped: three places stored */
    const char *dups = "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
        "\"properties\":{\"name\":\"d\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
        "[[[0,0],[0,0],[1,0],[1,0],[1,1],[0,0],[0,0]]]}}]}";
    OK(fmt_geojson_bounds_parse(dups, strlen(dups), NULL, g, err, sizeof err));
    assert_int_equal(g->nrings, 1);
    assert_int_equal(g->npoints, 3);
    assert_int_equal(g->points[0].lon_e7, 0);
    assert_int_equal(g->points[1].lon_e7, 10000000);
    assert_int_equal(g->points[2].lat_e7, 10000000);

    static const struct {
        const char *feature, *want;
    } bad[] = {
        {"{\"type\":\"Feature\",\"properties\":{\"name\":\"a\"},\"geometry\":{\"type\":"
         "\"LineString\",\"coordinates\":[[0,0],[1,1]]}}",
         "features[1] (a): geometry is a LineString, not a Polygon or MultiPolygon"},
        {"{\"type\":\"Feature\",\"properties\":{\"name\":\"a\"},\"geometry\":{\"type\":"
         "\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1]]]}}",
         "features[1] (a): ring 0 is not closed"},
        {"{\"type\":\"Feature\",\"properties\":{\"name\":\"a\"},\"geometry\":{\"type\":"
         "\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,91],[0,0]]]}}",
         "features[1] (a): ring 0, position 2: coordinates out of range"},
        {"{\"type\":\"Feature\",\"properties\":{\"name\":\"a\"},\"geometry\":{\"type\":"
         "\"Polygon\",\"coordinates\":[[[0,0],[1,0],[0,0]]]}}",
         "features[1] (a): ring 0 is not a list of at least 4 positions"},
        /* found by fuzz_geojson: four positions, closed, but only two places */
        {"{\"type\":\"Feature\",\"properties\":{\"name\":\"a\"},\"geometry\":{\"type\":"
         "\"Polygon\",\"coordinates\":[[[0,0],[162,0],[0,0],[0,0]]]}}",
         "features[1] (a): ring 0 has fewer than 3 distinct positions"},
        {"{\"type\":\"Feature\",\"properties\":{\"name\":\"a\"},\"geometry\":{\"type\":"
         "\"Polygon\",\"coordinates\":[[[5,5],[5,5.00000001],[5,5],[5,5]]]}}",
         "features[1] (a): ring 0 has fewer than 3 distinct positions"},
        {"{\"type\":\"Feature\",\"properties\":{\"name\":\"b\"},\"geometry\":null}",
         "features[1] (b): has no geometry"},
        {"{\"type\":\"Feature\",\"properties\":{\"NAME\":\"b\"},\"geometry\":null}",
         "features[1]: property \"name\" is missing (properties here: NAME)"},
        {"{\"type\":\"Feature\",\"properties\":{\"name\":\"c\"},\"geometry\":{\"type\":"
         "\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}}",
         "features[1] (c): the same name as features[0]"},
    };
    /* a county's name: 64 characters (Chinese ones too) yes, 65 no */
    for (int len = 64; len <= 65; len++) {
        char name[65 * 3 + 1] = "", buf[1024];
        for (int i = 0; i < len; i++)
            strcat(name, "\xe5\xa9\xba");
        snprintf(buf, sizeof buf, "{\"type\":\"FeatureCollection\",\"features\":["
                 "{\"type\":\"Feature\",\"properties\":{\"name\":\"%s\"},\"geometry\":"
                 "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}}]}", name);
        int rc = fmt_geojson_bounds_parse(buf, strlen(buf), NULL, g, err, sizeof err);
        if (len == 64) {
            OK(rc);
            assert_string_equal(g->features[0].name, name);
        } else {
            assert_int_equal(rc, FM_EDECODE);
            assert_non_null(strstr(err, "property \"name\" must be 1 to 64 characters of text "
                                        "(got 65 characters, 195 bytes)"));
        }
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[1024];
        snprintf(buf, sizeof buf, "{\"type\":\"FeatureCollection\",\"features\":["
                 "{\"type\":\"Feature\",\"properties\":{\"name\":\"c\"},\"geometry\":"
                 "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}},%s]}",
                 bad[i].feature);
        int rc = fmt_geojson_bounds_parse(buf, strlen(buf), NULL, g, err, sizeof err);
        if (rc != FM_EDECODE || strstr(err, bad[i].want) == NULL)
            print_error("case %zu: rc %d: %s\n", i, rc, err);
        assert_int_equal(rc, FM_EDECODE);
        assert_non_null(strstr(err, bad[i].want));
        assert_int_equal(g->nfeatures, 0);
    }
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_bytes_unchanged),
        cmocka_unit_test(test_v2_round_trip_and_strict),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_county_at),
        cmocka_unit_test(test_yaml_round_trip_and_errors),
        cmocka_unit_test(test_old_node_keeps_previous_directory),
        cmocka_unit_test(test_geojson_parse),
    };
    return wf_test_main("test_directory_geo", tests, sizeof tests / sizeof tests[0]);
}
