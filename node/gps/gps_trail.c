/*
 * gps_trail.c — the breadcrumb trail of a ticket while the unit is en
 * route (docs/gps.md): the evidence behind the distance driven and the
 * time en route that go into the ticket's clear.
 *
 * A fix a second for an hour is 3,600 points; the assessment needs the
 * route, not every wobble, so the trail keeps the first fix, then one at
 * least FM_GPS_TRAIL_GAP_MS after the previous kept one, and always the
 * newest as its last point (it is replaced until it is old enough to be
 * kept). At FM_GPS_TRAIL_POINTS nothing more is kept in the middle: only
 * the last point still moves, so the distance past the cap is the straight
 * leg to the newest fix (an undercount, said in `ticket show`).
 */
#include "gps_int.h"

#include <math.h>
#include <string.h>

static double leg_m(const struct fm_gps_trail_pt *a, const struct fm_gps_trail_pt *b)
{
    return gps_distance_m(a->lat_e7 / 1e7, a->lon_e7 / 1e7, b->lat_e7 / 1e7, b->lon_e7 / 1e7);
}

double gps_trail_distance_m(const struct fm_gps_trail *tr)
{
    double sum = 0;
    for (uint32_t i = 1; i < tr->n; i++)
        sum += leg_m(&tr->pt[i - 1], &tr->pt[i]);
    return sum;
}

bool gps_trail_add(struct fm_gps_trail *tr, const struct fm_gps_trail_pt *p)
{
    bool kept = false;
    if (tr->n > 0 && p->at_ms <= tr->pt[tr->n - 1].at_ms)
        return false; /* gpsd repeating itself, or time going back: not a new fix */
    tr->fixes++;
    if (tr->n < 2) {
        tr->pt[tr->n++] = *p; /* the first, then the first "last" */
        kept = true;
    } else if (tr->pt[tr->n - 1].at_ms - tr->pt[tr->n - 2].at_ms >= FM_GPS_TRAIL_GAP_MS &&
               tr->n < FM_GPS_TRAIL_POINTS) {
        tr->pt[tr->n++] = *p; /* the last is old enough to stay */
        kept = true;
    } else {
        if (tr->n == FM_GPS_TRAIL_POINTS &&
            tr->pt[tr->n - 1].at_ms - tr->pt[tr->n - 2].at_ms >= FM_GPS_TRAIL_GAP_MS)
            tr->full = true;
        tr->pt[tr->n - 1] = *p;
    }
    tr->distance_m = (uint64_t)llround(gps_trail_distance_m(tr));
    return kept;
}
