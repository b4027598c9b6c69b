/*
 * gps_arrive.c — "en route" and "on scene" from the vehicle's position
 * (docs/gps.md).
 *
 * The assessment measures arrival times; a button pressed in a hurry, or
 * late, makes them only as honest as the crew's thumb. So the vehicle's
 * own node watches its unit's active tickets: after an ack, leaving the
 * home station (farther than gps.leave_m from the directory's home) is "en
 * route"; coming within the incident category's arrival distance and
 * staying there for gps.dwell_s (by fix time, so a drive past does not
 * count) is "arrive". Each is a ticket step written by this node as the
 * unit's own report, with the GPS flag and a text saying from which fix.
 * Steps are first-report-wins: when the crew pressed the button first,
 * the GPS step is not written; a button press after it only confirms.
 *
 * The watch works from the public node API only (units, tickets,
 * incidents, the directory), refreshed every GPS_TICKETS_REFRESH_MS; a
 * ticket the unit has not acknowledged is never moved.
 */
#include "gps_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COMPONENT "gps"

struct by_name {
    const char *name;
    struct fm_unit *out;
    bool found;
};

static int by_name_cb(void *ctx, const struct fm_unit *u)
{
    struct by_name *b = ctx;
    if (strcmp(u->name, b->name) != 0)
        return 0;
    *b->out = *u;
    b->found = true;
    return 1;
}

int gps_unit_resolve(struct fm_node *n, const char *unit, struct fm_unit *out)
{
    struct by_name b = {.name = unit, .out = out};
    int rc = fm_node_unit_get(n, unit, out);
    if (rc != FM_ENOTFOUND)
        return rc;
    rc = fm_node_units(n, by_name_cb, &b);
    if (rc < 0)
        return rc;
    return b.found ? FM_OK : FM_ENOTFOUND;
}

struct collect {
    const char *unit_id;
    struct gps_watch found[GPS_ARRIVE_MAX];
    size_t n;
};

static int collect_ticket(void *ctx, const struct fm_ticket *t)
{
    struct collect *c = ctx;
    if (!t->active || strcmp(t->unit, c->unit_id) != 0 || c->n == GPS_ARRIVE_MAX ||
        (t->state != FM_TICKET_ACKNOWLEDGED && t->state != FM_TICKET_ENROUTE))
        return 0;
    struct gps_watch *w = &c->found[c->n++];
    memset(w, 0, sizeof *w);
    fm_strlcpy(w->incident, t->incident, sizeof w->incident);
    w->state = (int)t->state;
    fm_strlcpy(w->ticket_id, t->id, sizeof w->ticket_id);
    return 0;
}

/* Looks up the unit's acknowledged / en-route tickets and their incidents,
 * keeping what the previous look-up knew of each (time inside, steps done). */
static void arrive_refresh(struct gps_arrive *a, struct fm_node *n)
{
    struct fm_unit *u = malloc(sizeof *u);
    struct fm_incident *inc = malloc(sizeof *inc);
    struct fm_directory *d = NULL;
    struct collect *c = calloc(1, sizeof *c);
    const struct fm_dir_unit *home = NULL;
    if (u == NULL || inc == NULL || c == NULL || gps_unit_resolve(n, a->unit, u) != FM_OK)
        goto out;
    c->unit_id = u->id;
    if (fm_node_tickets(n, NULL, collect_ticket, c) != FM_OK)
        goto out;
    if (fm_node_directory_get(n, &d) == FM_OK)
        home = fm_directory_unit(d, u->name);
    for (size_t i = 0; i < c->n; i++) {
        struct gps_watch *w = &c->found[i];
        if (fm_node_incident_get(n, w->incident, inc) != FM_OK) {
            w->ticket_id[0] = '\0';
            continue;
        }
        w->inc_lat_e7 = inc->lat_e7;
        w->inc_lon_e7 = inc->lon_e7;
        w->arrive_m = fm_gps_arrive_m(a->conf, inc->category);
        if (home != NULL) {
            w->has_home = true;
            w->home_lat_e7 = home->lat_e7;
            w->home_lon_e7 = home->lon_e7;
        }
        for (size_t k = 0; k < a->nw; k++)
            if (strcmp(a->w[k].ticket_id, w->ticket_id) == 0) {
                w->inside_since_ms = a->w[k].inside_since_ms;
                w->gps_enroute = a->w[k].gps_enroute;
                w->gps_arrive = a->w[k].gps_arrive;
                w->trail_loaded = a->w[k].trail_loaded;
                w->trail_saved_mono = a->w[k].trail_saved_mono;
                w->trail = a->w[k].trail;
            }
    }
    a->nw = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->found[i].ticket_id[0] != '\0')
            a->w[a->nw++] = c->found[i];
out:
    fm_directory_free(&d);
    free(u);
    free(inc);
    free(c);
}

static void fmt_fix_time(uint64_t ms, char out[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&s, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "%llu ms", (unsigned long long)ms);
}

/* Writes one GPS step; true when the ticket has that step now (written
 * here, or already there: a button pressed first wins, FM_ESTATE). */
static bool arrive_write(struct gps_arrive *a, struct fm_node *n, const struct gps_watch *w,
                         enum fm_ticket_step step, const char *text)
{
    int rc = fm_node_ticket_step_gps(n, w->ticket_id, step, text);
    if (rc == FM_OK) {
        a->written++;
        fm_log(FM_LOG_INFO, COMPONENT, "ticket %s: %s by position (%s)", w->ticket_id,
               step == FM_STEP_ARRIVE ? "arrived" : "en route", text);
        return true;
    }
    if (rc == FM_ESTATE)
        return true;
    static struct fm_log_limiter lim;
    fm_log_limited(&lim, 3, FM_LOG_WARN, COMPONENT, "ticket %s: cannot record %s by position: %s",
                   w->ticket_id, step == FM_STEP_ARRIVE ? "the arrival" : "en route",
                   fm_strerror(rc));
    return false;
}

/* While en route (stamped, not yet arrived): the fix goes into the
 * ticket's trail, stored when a point is kept and otherwise at most every
 * GPS_TRAIL_SAVE_MS (the moving last point). */
static void trail_fix(struct fm_node *n, struct gps_watch *w, const struct gps_tpv *t,
                      uint64_t mono_ms)
{
    if (!w->trail_loaded) {
        if (fm_node_gps_trail_get(n, w->ticket_id, &w->trail) != FM_OK) {
            memset(&w->trail, 0, sizeof w->trail);
            fm_strlcpy(w->trail.ticket, w->ticket_id, sizeof w->trail.ticket);
        }
        w->trail_loaded = true;
    }
    struct fm_gps_trail_pt p = {.at_ms = t->time_ms,
                                .lat_e7 = (int32_t)lround(t->lat * 1e7),
                                .lon_e7 = (int32_t)lround(t->lon * 1e7),
                                .accuracy_dm = t->has_eph ? (uint32_t)lround(t->eph_m * 10)
                                                          : FM_GPS_NO_ACCURACY};
    uint32_t before = w->trail.fixes;
    bool kept = gps_trail_add(&w->trail, &p);
    if (w->trail.fixes == before)
        return;
    w->trail.updated_ms = t->time_ms;
    if (!kept && mono_ms - w->trail_saved_mono < GPS_TRAIL_SAVE_MS)
        return;
    int rc = fm_node_gps_trail_put(n, &w->trail);
    w->trail_saved_mono = mono_ms;
    if (rc != FM_OK) {
        static struct fm_log_limiter lim;
        fm_log_limited(&lim, 3, FM_LOG_WARN, COMPONENT, "ticket %s: cannot store the trail: %s",
                       w->ticket_id, fm_strerror(rc));
    }
}

static void arrive_one(struct gps_arrive *a, struct fm_node *n, struct gps_watch *w,
                       const struct gps_tpv *t, uint64_t mono_ms)
{
    char text[256], when[32];
    double d_inc = gps_distance_m(t->lat, t->lon, w->inc_lat_e7 / 1e7, w->inc_lon_e7 / 1e7);
    if (w->state == FM_TICKET_ACKNOWLEDGED && !w->gps_enroute && w->has_home &&
        d_inc > w->arrive_m) {
        double d_home = gps_distance_m(t->lat, t->lon, w->home_lat_e7 / 1e7,
                                       w->home_lon_e7 / 1e7);
        if (d_home > a->conf->leave_m) {
            fmt_fix_time(t->time_ms, when);
            snprintf(text, sizeof text, "source: GPS; %.0f m from the home station at fix %s "
                     "(accuracy %.0f m)", d_home, when, t->eph_m);
            if (arrive_write(a, n, w, FM_STEP_ENROUTE, text)) {
                w->gps_enroute = true;
                w->state = FM_TICKET_ENROUTE;
            }
        }
    }
    if (w->state == FM_TICKET_ENROUTE && !w->gps_arrive)
        trail_fix(n, w, t, mono_ms);
    if (w->gps_arrive)
        return;
    if (d_inc > w->arrive_m) {
        w->inside_since_ms = 0;
        return;
    }
    if (w->inside_since_ms == 0 || t->time_ms < w->inside_since_ms)
        w->inside_since_ms = t->time_ms;
    if (t->time_ms - w->inside_since_ms < (uint64_t)a->conf->dwell_s * 1000)
        return;
    fmt_fix_time(w->inside_since_ms, when);
    snprintf(text, sizeof text, "source: GPS; within %u m of the incident since fix %s "
             "(%.0f m, accuracy %.0f m)", w->arrive_m, when, d_inc, t->eph_m);
    if (arrive_write(a, n, w, FM_STEP_ARRIVE, text)) {
        w->gps_arrive = true;
        if (w->trail_loaded && w->trail.n > 0 && fm_node_gps_trail_put(n, &w->trail) != FM_OK)
            fm_log(FM_LOG_WARN, COMPONENT, "ticket %s: cannot store the trail", w->ticket_id);
    }
}

void gps_arrive_fix(struct gps_arrive *a, struct fm_node *n, const struct gps_tpv *t,
                    uint64_t mono_ms)
{
    if (mono_ms >= a->next_refresh_mono) {
        arrive_refresh(a, n);
        a->next_refresh_mono = mono_ms + GPS_TICKETS_REFRESH_MS;
    }
    for (size_t i = 0; i < a->nw; i++)
        arrive_one(a, n, &a->w[i], t, mono_ms);
}
