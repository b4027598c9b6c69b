/*
 * gps_rules.c — which GPS fixes count and when one is published.
 *
 * A receiver reports about once a second; the mesh needs a vehicle's
 * position when it has moved or turned, and a fresh one now and then, not
 * every report (positions already go last on slow links, and each one is a
 * signed record). So a fix is published when it is the first, when
 * gps.interval_s has passed, when the vehicle moved gps.min_move_m or
 * turned gps.heading_deg since the last one — never twice in a second.
 *
 * Before that a fix is judged: no fix (mode < 2, no time or position, or a
 * time far from our clock), poor (no error estimate, or one above
 * gps.accuracy_m: a bad position is worse than the last good one), or a
 * jump (a position the vehicle could not have reached at
 * gps.max_speed_kmh — multipath in a street canyon, a receiver glitch).
 * A jump is believed only once GPS_JUMP_CONFIRM fixes in a row agree with
 * each other, so a real relocation (a vehicle carried on a ferry, a
 * receiver restarted far away) is taken after a few seconds.
 * Pure functions of their inputs: tests/unit/test_gps.c drives them.
 */
#include "gps_int.h"

#include <math.h>
#include <string.h>

#define EARTH_RADIUS_M 6371008.8

double gps_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    const double rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    if (a > 1.0)
        a = 1.0;
    return 2.0 * EARTH_RADIUS_M * asin(sqrt(a));
}

/* Metres per second from a to b (at least a second apart, so two fixes
 * with one time stamp do not divide by zero). */
static double gps_speed(const struct gps_pt *a, const struct gps_pt *b)
{
    uint64_t dt = b->fix_ms > a->fix_ms ? b->fix_ms - a->fix_ms : a->fix_ms - b->fix_ms;
    if (dt < 1000)
        dt = 1000;
    return gps_distance_m(a->lat, a->lon, b->lat, b->lon) / ((double)dt / 1000.0);
}

enum gps_verdict gps_rules_judge(struct gps_rules *r, const struct gps_tpv *t, uint64_t wall_ms)
{
    struct gps_pt p = {t->lat, t->lon, t->time_ms};
    double vmax = r->conf->max_speed_kmh / 3.6;
    if (t->mode < 2 || !t->has_pos || !t->has_time || t->time_ms + GPS_STALE_MS < wall_ms ||
        t->time_ms > wall_ms + GPS_FUTURE_MS)
        return GPS_V_NOFIX;
    if (!t->has_eph || t->eph_m > (double)r->conf->accuracy_m)
        return GPS_V_POOR;
    if (r->has_good && gps_speed(&r->good, &p) > vmax) {
        if (r->has_cand && gps_speed(&r->cand, &p) <= vmax)
            r->cand_n++;
        else
            r->cand_n = 1;
        r->cand = p;
        r->has_cand = true;
        if (r->cand_n < GPS_JUMP_CONFIRM)
            return GPS_V_JUMP;
    }
    r->has_cand = false;
    r->cand_n = 0;
    r->good = p;
    r->has_good = true;
    return GPS_V_GOOD;
}

static double angle_diff(double a, double b)
{
    double d = fabs(a - b);
    while (d >= 360.0)
        d -= 360.0;
    return d > 180.0 ? 360.0 - d : d;
}

bool gps_rules_due(const struct gps_rules *r, const struct gps_tpv *t, uint64_t mono_ms)
{
    if (!r->has_pub)
        return true;
    uint64_t since = mono_ms - r->pub_mono_ms;
    if (since < GPS_MIN_GAP_MS)
        return false;
    if (since >= (uint64_t)r->conf->interval_s * 1000)
        return true;
    if (gps_distance_m(r->pub.lat, r->pub.lon, t->lat, t->lon) >= (double)r->conf->min_move_m)
        return true;
    return t->has_track && r->pub_track >= 0 && t->has_speed &&
           t->speed_mps >= GPS_TURN_MIN_MPS &&
           angle_diff(t->track_deg, r->pub_track) >= (double)r->conf->heading_deg;
}

void gps_rules_published(struct gps_rules *r, const struct gps_tpv *t, uint64_t mono_ms)
{
    r->pub = (struct gps_pt){t->lat, t->lon, t->time_ms};
    r->pub_track = t->has_track && t->has_speed && t->speed_mps >= GPS_TURN_MIN_MPS
                       ? t->track_deg
                       : (r->has_pub ? r->pub_track : -1);
    r->pub_mono_ms = mono_ms;
    r->has_pub = true;
}

static int32_t e7(double deg)
{
    return (int32_t)lround(deg * 1e7);
}

void gps_fix_from_tpv(const struct gps_tpv *t, struct fm_gps_fix *out)
{
    memset(out, 0, sizeof *out);
    out->lat_e7 = e7(t->lat);
    out->lon_e7 = e7(t->lon);
    out->fix_ms = t->time_ms;
    out->accuracy_dm = t->has_eph && t->eph_m < 4e8 ? (uint32_t)lround(t->eph_m * 10)
                                                    : FM_GPS_NO_ACCURACY;
    out->track_cdeg = FM_GPS_NO_TRACK;
    if (t->has_track) {
        long c = lround(t->track_deg * 100);
        out->track_cdeg = (uint16_t)(c >= 36000 ? c - 36000 : c);
    }
    out->speed_cms = t->has_speed ? (t->speed_mps * 100 >= 65534 ? 65534
                                                                : (uint16_t)lround(t->speed_mps * 100))
                                  : 0;
}
