/*
 * test_gps_trail.c — the breadcrumb trail of a ticket while en route
 * (docs/gps.md): thinning to one point per 30 s plus the first and the
 * last, the cap on points and on tickets kept, the distance sum on known
 * coordinates in Jinhua, and the route summary the unit's clear carries in
 * its result text to every node (same digest; a forged summary refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "wf_test_util.h"

#include "node/gps/gps_int.h"

#include <stdio.h>
#include <stdlib.h>

static struct fm_gps_trail_pt pt(uint64_t at_s, double lat, double lon)
{
    struct fm_gps_trail_pt p = {.at_ms = 1800000000000ULL + at_s * 1000,
                                .lat_e7 = (int32_t)(lat * 1e7 + (lat < 0 ? -0.5 : 0.5)),
                                .lon_e7 = (int32_t)(lon * 1e7 + 0.5), .accuracy_dm = 50};
    return p;
}

/* One fix a second for 200 s: kept at 0, 30, 60, ... 180 and the last at 200. */
static void test_thinning(void **state)
{
    (void)state;
    struct fm_gps_trail *tr = calloc(1, sizeof *tr);
    assert_non_null(tr);
    for (uint64_t s = 0; s <= 200; s++) {
        struct fm_gps_trail_pt p = pt(s, 29.0790 + s * 1e-5, 119.6470);
        gps_trail_add(tr, &p);
    }
    assert_int_equal(tr->fixes, 201);
    assert_int_equal(tr->n, 8);
    assert_int_equal(tr->pt[0].at_ms, pt(0, 0, 0).at_ms);
    assert_int_equal(tr->pt[tr->n - 1].at_ms, pt(200, 0, 0).at_ms);
    for (uint32_t i = 1; i + 1 < tr->n; i++)
        assert_true(tr->pt[i].at_ms - tr->pt[i - 1].at_ms >= FM_GPS_TRAIL_GAP_MS);
    assert_false(tr->full);
    /* a repeated or older fix is not a new one */
    struct fm_gps_trail_pt again = pt(200, 29.5, 119.5);
    assert_false(gps_trail_add(tr, &again));
    assert_int_equal(tr->fixes, 201);
    assert_int_equal(tr->pt[tr->n - 1].lat_e7, pt(200, 29.0790 + 200e-5, 0).lat_e7);
    free(tr);
}

/* Past FM_GPS_TRAIL_POINTS nothing more is kept in the middle; the first
 * stays, the last is still the newest fix, and `full` says so. */
static void test_cap(void **state)
{
    (void)state;
    struct fm_gps_trail *tr = calloc(1, sizeof *tr);
    assert_non_null(tr);
    for (uint64_t i = 0; i < FM_GPS_TRAIL_POINTS + 50; i++) {
        struct fm_gps_trail_pt p = pt(i * 31, 29.0790 + i * 1e-4, 119.6470);
        gps_trail_add(tr, &p);
    }
    assert_int_equal(tr->n, FM_GPS_TRAIL_POINTS);
    assert_int_equal(tr->fixes, FM_GPS_TRAIL_POINTS + 50);
    assert_true(tr->full);
    assert_int_equal(tr->pt[0].at_ms, pt(0, 0, 0).at_ms);
    assert_int_equal(tr->pt[tr->n - 1].at_ms, pt((FM_GPS_TRAIL_POINTS + 49) * 31, 0, 0).at_ms);
    assert_int_equal(tr->pt[tr->n - 2].at_ms, pt((FM_GPS_TRAIL_POINTS - 2) * 31, 0, 0).at_ms);
    free(tr);
}

/* North 0.0100 deg along 119.647 E (1,111.9 m), then east 0.0103 deg along
 * 29.089 N (0.0103 * 111,195 m * cos 29.089 deg = 1,000.9 m): 2,112.8 m. */
static void test_distance(void **state)
{
    (void)state;
    struct fm_gps_trail *tr = calloc(1, sizeof *tr);
    assert_non_null(tr);
    struct fm_gps_trail_pt a = pt(0, 29.0790, 119.6470), b = pt(40, 29.0890, 119.6470),
                           c = pt(80, 29.0890, 119.6573);
    assert_true(gps_trail_add(tr, &a));
    assert_true(gps_trail_add(tr, &b));
    assert_true(gps_trail_add(tr, &c));
    assert_int_equal(tr->n, 3);
    double want = 2112.8;
    assert_true(fabs(gps_trail_distance_m(tr) - want) < want * 0.01);
    assert_true(fabs((double)tr->distance_m - want) < want * 0.01);
    free(tr);
}

static void test_route_text(void **state)
{
    (void)state;
    struct fm_route r = {.distance_m = 5234, .enroute_s = 612}, got;
    char text[FM_TEXT_MAX] = "fire out";
    size_t rl;
    assert_true(fm_route_append(text, sizeof text, &r));
    assert_string_equal(text, "fire out [GPS route: 5234 m, 612 s en route]");
    assert_true(fm_route_parse(text, &got, &rl));
    assert_int_equal(got.distance_m, 5234);
    assert_int_equal(got.enroute_s, 612);
    assert_int_equal(rl, 8);
    assert_false(fm_route_parse("fire out", &got, NULL));
    assert_false(fm_route_parse("x [GPS route: 012 m, 1 s en route]", &got, NULL));
    assert_false(fm_route_parse("x [GPS route: -1 m, 1 s en route]", &got, NULL));
    assert_false(fm_route_parse("x [GPS route: 1 m, s en route]", &got, NULL));
    assert_false(fm_route_parse("x [GPS route: 99999999999 m, 1 s en route]", &got, NULL));
    /* a result that fills the text leaves no room: unchanged */
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    assert_false(fm_route_append(text, sizeof text, &r));
    assert_int_equal(strlen(text), sizeof text - 1);
}

/* The store keeps at most FM_GPS_TRAIL_TICKETS trails: the least recently
 * updated goes. The unit's clear carries the summary to the centre. */
static void test_store_and_clear(void **state)
{
    (void)state;
    struct fx_node c, v;
    struct fm_ingest_result res;
    struct fm_ticket t;
    struct fm_route r;
    char inc[FM_ID_MAX], uid[FM_ID_MAX], tk[1][FM_ID_MAX];
    uint8_t d1[FM_HASH_LEN], d2[FM_HASH_LEN];
    struct fm_unit_new un = {.name = "Engine J1", .department = "Jinhua Fire", .kind = "engine",
                             .tier = 1};
    struct fm_gps_trail *tr = calloc(1, sizeof *tr), *got = calloc(1, sizeof *got);
    assert_non_null(tr);
    assert_non_null(got);
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_unit_node(&v, "vehicle", FM_ROLE_VEHICLE, "Engine J1");
    OK(fm_node_unit_register(c.n, &un, uid));
    report(c.n, "building_fire", 29.0890, 119.6573, 1, inc);
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){uid}, 1, NULL, tk));
    OK(fx_sync(c.n, v.n, &res));
    OK(fm_node_ensure_cert(v.n));
    OK(fm_node_ticket_step(v.n, tk[0], FM_STEP_ACK, NULL));
    OK(fm_node_ticket_step(v.n, tk[0], FM_STEP_ENROUTE, NULL));
    /* older trails first, then this ticket's */
    for (int i = 0; i < FM_GPS_TRAIL_TICKETS; i++) {
        memset(tr, 0, sizeof *tr);
        snprintf(tr->ticket, sizeof tr->ticket, "old-%d", i);
        tr->updated_ms = 1000 + (uint64_t)i;
        struct fm_gps_trail_pt p = pt((uint64_t)i, 29.0, 119.6);
        gps_trail_add(tr, &p);
        OK(fm_node_gps_trail_put(v.n, tr));
    }
    memset(tr, 0, sizeof *tr);
    fm_strlcpy(tr->ticket, tk[0], sizeof tr->ticket);
    struct fm_gps_trail_pt a = pt(0, 29.0790, 119.6470), b = pt(40, 29.0890, 119.6470),
                           e = pt(80, 29.0890, 119.6573);
    gps_trail_add(tr, &a);
    gps_trail_add(tr, &b);
    gps_trail_add(tr, &e);
    tr->updated_ms = 5000;
    OK(fm_node_gps_trail_put(v.n, tr));
    assert_int_equal(fm_node_gps_trail_get(v.n, "old-0", got), FM_ENOTFOUND); /* evicted */
    OK(fm_node_gps_trail_get(v.n, "old-1", got));
    OK(fm_node_gps_trail_get(v.n, tk[0], got));
    assert_int_equal(got->n, 3);
    assert_int_equal(got->distance_m, tr->distance_m);
    assert_int_equal(got->pt[2].lon_e7, e.lon_e7);
    assert_int_equal(got->pt[1].accuracy_dm, 50);
    assert_int_equal(fm_node_gps_trail_get(c.n, tk[0], got), FM_ENOTFOUND); /* local only */
    /* the crew may not type a summary; the node adds its own */
    assert_int_equal(fm_node_ticket_step(v.n, tk[0], FM_STEP_CLEAR,
                                         "out [GPS route: 1 m, 1 s en route]"), FM_EINVAL);
    OK(fm_node_ticket_step(v.n, tk[0], FM_STEP_CLEAR, "fire out"));
    OK(fx_sync(v.n, c.n, &res));
    OK(fx_sync(c.n, v.n, &res));
    OK(fm_node_ticket_get(c.n, tk[0], &t));
    assert_true(fm_route_parse(t.result, &r, NULL));
    assert_true(fabs((double)r.distance_m - 2112.8) < 2112.8 * 0.01);
    assert_int_equal(r.enroute_s, 80);
    assert_true(strncmp(t.result, "fire out [GPS route: ", 21) == 0);
    OK(fm_node_digest(c.n, d1));
    OK(fm_node_digest(v.n, d2));
    assert_memory_equal(d1, d2, FM_HASH_LEN);
    free(tr);
    free(got);
    fx_done(&v);
    fx_done(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thinning),   cmocka_unit_test(test_cap),
        cmocka_unit_test(test_distance),   cmocka_unit_test(test_route_text),
        cmocka_unit_test(test_store_and_clear),
    };
    return wf_test_main("test_gps_trail", tests, sizeof tests / sizeof tests[0]);
}
